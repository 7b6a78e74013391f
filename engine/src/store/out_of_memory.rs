//! A buffer the system refuses inside a store (here: a per-thread cap,
//! [`crate::block_buffer::test_limit`]) fails the call with
//! [`StoreError::OutOfMemory`] naming the store, the block and the bytes, and leaves
//! the store as it was: the same call succeeds once memory is free.

use std::sync::Arc;

use super::*;
use crate::block_buffer::test_limit;

const BS: usize = 64;

/// Runs `f` with every buffer past `cap` bytes refused on this thread, then lifts
/// the cap.
fn starved<T>(cap: usize, f: impl FnOnce() -> T) -> T {
    test_limit::cap(cap);
    let r = f();
    test_limit::lift();
    r
}

fn refused(r: Result<(), StoreError>, at: u64, want_bytes: usize, purpose: &str) {
    match r {
        Err(StoreError::OutOfMemory {
            block,
            bytes,
            purpose: p,
            ..
        }) => {
            assert_eq!((block, bytes), (at, want_bytes), "{purpose}");
            assert!(p.contains(purpose), "{p:?} does not name {purpose:?}");
        }
        other => panic!("expected OutOfMemory ({purpose}), got {other:?}"),
    }
}

fn whole<S: BlockStore + ?Sized>(s: &S, block: u64) -> Vec<u8> {
    let mut buf = vec![0u8; s.block_size()];
    s.read_block(block, &mut buf).unwrap();
    buf
}

/// The default prefix calls (a store holding whole blocks: memory, file): a write of
/// part of a block builds the whole block, a read into a buffer without room makes
/// it; refused, nothing is written and the buffer is left empty with its capacity.
#[test]
fn the_default_prefix_calls_ask_for_their_whole_block_fallibly() {
    let dir = tempfile::tempdir().unwrap();
    let file = FileStore::create(dir.path().join("a.img"), BS, 4).unwrap();
    let mem = MemStore::new(BS, 4).unwrap();
    let stores: [&dyn BlockStore; 2] = [&file, &mem];
    for s in stores {
        s.write_block(1, &[5; BS]).unwrap();
        let r = starved(BS - 1, || s.write_block_prefix(1, &[7; 3]));
        refused(r, 1, BS, PREFIX_WRITE);
        assert_eq!(whole(s, 1), vec![5; BS], "{}", s.name());
        let mut out = Vec::new();
        refused(
            starved(BS - 1, || s.read_block_prefix(1, &mut out)),
            1,
            BS,
            PREFIX_READ,
        );
        assert!(out.is_empty());
        // A buffer with room already is read into under the same cap.
        out.reserve_exact(BS);
        starved(BS - 1, || s.read_block_prefix(1, &mut out)).unwrap();
        assert_eq!(out, vec![5; BS]);
        // Memory free again: the same calls succeed.
        s.write_block_prefix(1, &[7; 3]).unwrap();
        let mut out = Vec::new();
        s.read_block_prefix(1, &mut out).unwrap();
        assert_eq!(&out[..4], &[7, 7, 7, 0]);
    }
}

/// The sparse store: a content longer than a slot's gets an allocation of its own
/// (a new block, or a rewrite of another length), refused before the table changes;
/// a rewrite of the same length is done in place, with nothing to ask for; a read
/// into a buffer without room for the content, and an unwritten block's initial
/// whole block, ask fallibly too.
#[test]
fn the_sparse_store_asks_for_its_held_contents_and_read_buffers_fallibly() {
    let s = SparseStore::with_initial(BS, 1 << 20, Arc::new(|_, b: &mut [u8]| b.fill(3))).unwrap();
    let mut long = vec![0u8; BS];
    long[..40].fill(9);
    // A new block: nothing held.
    refused(
        starved(39, || s.write_block(5, &long)),
        5,
        40,
        "hold a written block",
    );
    assert_eq!((s.blocks_held(), s.holds(5)), (0, false));
    assert_eq!(whole(&s, 5), vec![3; BS], "the initial content, as before");
    refused(
        starved(39, || s.write_block_prefix(5, &long[..40])),
        5,
        40,
        "hold a written block",
    );
    assert_eq!(s.blocks_held(), 0);
    let bytes = s.bytes_held();
    s.write_block(5, &long).unwrap();
    assert!(s.bytes_held() > bytes);
    // A rewrite of the same length: in place, under any cap.
    let mut again = long.clone();
    again[..40].fill(8);
    starved(0, || s.write_block(5, &again)).unwrap();
    assert_eq!(whole(&s, 5), again);
    // A rewrite of another length asks for it; refused, the old content stays.
    let mut longer = again.clone();
    longer[..50].fill(6);
    refused(
        starved(49, || s.write_block(5, &longer)),
        5,
        50,
        "hold a written block",
    );
    assert_eq!(whole(&s, 5), again);
    // A short content lives in its slot: nothing to ask for where its part has room
    // (block 37 shares block 5's part, 32 parts).
    starved(0, || s.write_block_prefix(37, &[1; 4])).unwrap();
    // Reads: the held content's bytes, an unwritten block's whole initial block.
    let mut out = Vec::new();
    refused(
        starved(39, || s.read_block_prefix(5, &mut out)),
        5,
        40,
        PREFIX_READ,
    );
    assert!(out.is_empty());
    refused(
        starved(BS - 1, || s.read_block_prefix(7, &mut out)),
        7,
        BS,
        PREFIX_READ,
    );
    assert!(out.is_empty());
    s.read_block_prefix(7, &mut out).unwrap();
    assert_eq!(out, vec![3; BS]);
    // The exclusive calls alike.
    let mut s = s;
    let mut fresh = Vec::new();
    refused(
        starved(39, || s.read_block_prefix_mut(5, &mut fresh)),
        5,
        40,
        PREFIX_READ,
    );
    refused(
        starved(49, || s.write_block_prefix_mut(5, &longer)),
        5,
        50,
        "hold a written block",
    );
    assert_eq!(whole(&s, 5), again);
    s.write_block_prefix_mut(5, &longer).unwrap();
    s.read_block_prefix_mut(5, &mut fresh).unwrap();
    assert_eq!(fresh, longer[..50]);
}

/// The sparse store's table: a part that must grow to hold a new block (its first
/// bucket, then a quarter more) asks for its grown buckets before anything changes;
/// refused, the block is not held, the table's bytes and the other blocks are as they
/// were, and a block already held is rewritten under any cap (nothing to grow). A
/// heap content given up for a short one asks for room in the free list first;
/// refused, the old content stays.
#[test]
fn the_sparse_stores_table_asks_for_its_growth_and_free_list_fallibly() {
    const HOLD: &str = "hold a written block";
    // 2^20 blocks: 32 parts, block `b` in part `b % 32`.
    let s = SparseStore::new(BS, 1 << 20).unwrap();
    let short = |x: u8| {
        let mut b = vec![0u8; BS];
        b[..3].fill(x);
        b
    };
    // Part 0's first bucket: 64 bytes.
    refused(starved(63, || s.write_block(0, &short(1))), 0, 64, HOLD);
    assert_eq!((s.blocks_held(), s.holds(0)), (0, false));
    s.write_block(0, &short(1)).unwrap();
    // Two more fit the bucket: nothing asked for.
    for b in [32, 64] {
        starved(0, || s.write_block(b, &short(b as u8 + 1))).unwrap();
    }
    // A fourth block passes 7/8 of the bucket's 4 slots: two buckets, 128 bytes.
    let bytes = s.bytes_held();
    refused(starved(127, || s.write_block(96, &short(7))), 96, 128, HOLD);
    assert_eq!(
        (s.blocks_held(), s.bytes_held(), s.holds(96)),
        (3, bytes, false)
    );
    assert_eq!(whole(&s, 96), vec![0; BS]);
    for b in [0, 32, 64] {
        assert_eq!(whole(&s, b), short(b as u8 + 1), "block {b}");
    }
    starved(0, || s.write_block(32, &short(8))).unwrap();
    assert_eq!(whole(&s, 32), short(8));
    s.write_block(96, &short(7)).unwrap();
    assert_eq!((s.blocks_held(), whole(&s, 96)), (4, short(7)));
    assert!(s.bytes_held() > bytes);
    // A long content (held on the heap) rewritten short: its heap place joins the
    // free list, which has none yet (4 places of 4 bytes asked for).
    s.write_block(64, &[5; BS]).unwrap();
    refused(starved(15, || s.write_block(64, &short(6))), 64, 16, HOLD);
    assert_eq!(whole(&s, 64), vec![5; BS]);
    s.write_block(64, &short(6)).unwrap();
    assert_eq!(whole(&s, 64), short(6));
}

/// The crash store: a write's copy in its cache is asked for before anything
/// changes (refused: nothing cached, the block as it was); a read of a cached block
/// into a buffer without room asks too.
#[test]
fn the_crash_stores_cache_asks_for_its_copies_fallibly() {
    let s = CrashStore::new(MemStore::new(BS, 4).unwrap(), 16);
    s.write_block(2, &[4; BS]).unwrap();
    refused(
        starved(BS - 1, || s.write_block(2, &[6; BS])),
        2,
        BS,
        "hold an unflushed write",
    );
    assert_eq!(whole(&s, 2), vec![4; BS]);
    let mut out = Vec::new();
    refused(
        starved(BS - 1, || s.read_block_prefix(2, &mut out)),
        2,
        BS,
        PREFIX_READ,
    );
    s.write_block(2, &[6; BS]).unwrap();
    // The list of unflushed writes grows by doubling (4 writes, then 8): its growth
    // is asked for before anything changes; refused, the write is not cached and a
    // crash switch does not count it.
    for b in [0, 1] {
        s.write_block(b, &[7; BS]).unwrap();
    }
    assert_eq!(s.pending().len(), 4);
    let switch = CrashSwitch::never();
    s.set_switch(Some(switch.clone()));
    let cap = 8 * std::mem::size_of::<PendingWrite>() - 1;
    refused(
        starved(cap, || s.write_block(3, &[8; BS])),
        3,
        cap + 1,
        "hold an unflushed write",
    );
    assert_eq!((s.pending().len(), switch.ops()), (4, 0));
    assert_eq!(whole(&s, 3), vec![0; BS]);
    s.write_block(3, &[8; BS]).unwrap();
    assert_eq!(
        (s.pending().len(), switch.ops(), whole(&s, 3)),
        (5, 1, vec![8; BS])
    );
    s.set_switch(None);
    // A torn write's merged block at the power loss asks too.
    let tear = |_: &PendingWrite| Fate::Torn(vec![true, false, true, false]);
    refused(starved(BS - 1, || s.crash(tear)), 2, BS, "tear a write");
    s.write_block(2, &[6; BS]).unwrap();
    s.crash_losing_all().unwrap();
    assert_eq!(
        whole(&s, 2),
        vec![0; BS],
        "the cached writes were unflushed"
    );
}

/// A device's call meets the store's refusal as [`crate::Error::OutOfMemory`]:
/// one kind whichever layer asked.
#[test]
fn a_device_call_turns_a_stores_refusal_into_its_out_of_memory_error() {
    let e = crate::Error::from(StoreError::OutOfMemory {
        store: "memory".into(),
        block: 3,
        bytes: 40,
        purpose: PREFIX_READ,
    });
    assert!(
        matches!(e, crate::Error::OutOfMemory { bytes: 40, purpose } if purpose == PREFIX_READ),
        "{e:?}"
    );
    let e = crate::Error::from(StoreError::Locked {
        store: "a.img".into(),
    });
    assert!(matches!(e, crate::Error::Store(StoreError::Locked { .. })));
}
