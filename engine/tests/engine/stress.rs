//! The concurrent front under load: old writers on VLUN A and new writers on VLUN B,
//! on overlapping blocks, through few group-1 locks and group-2 stripe locks, while
//! the main thread splits the volume (old writers already running), then archives and
//! retires A. Every block carries who wrote it, which write, where, and a checksum, so
//! the checks need no timing assumptions:
//!
//! - no-torn-write: every block read (during the run, in the archive, at the end)
//!   passes its checksum and names the block it was read from;
//! - A-isolated: VLUN A never shows a B writer's block;
//! - linearizable: each read shows a write that had begun before the read ended and
//!   that no write (visible through that VLUN) finished-then-overwrote before the read
//!   began; the archive and the final B hold, per block, a write that no later write
//!   superseded (B-complete: B sees A's writes too, A sees only its own).
//!
//! Real-time order comes from one SeqCst ticket counter taken before and after each
//! call: if `end(w1) < start(w2)`, `w1` finished before `w2` began.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use engine::file::{self, DevicePaths, Geometry};
use engine::{BlockStore, Device, DeviceConfig, StripeLocks, Variant, Vlun};

use crate::common::Rng;

const BS: usize = 512;
const N: u64 = 32;
const OLD_WRITERS: u32 = 2;
const NEW_WRITERS: u32 = 2;
const OLD_OPS: u32 = 2_000;
const NEW_OPS_MAX: u32 = 4_000;

/// Writer ids: old writers first (VLUN A), then new ones (VLUN B).
fn is_old(writer: u32) -> bool {
    writer < OLD_WRITERS
}

#[derive(Debug, Clone, Copy)]
struct WriteRec {
    block: u64,
    id: (u32, u32),
    start: u64,
    end: u64,
}

#[derive(Debug, Clone, Copy)]
struct ReadRec {
    vlun: Vlun,
    block: u64,
    shown: Option<(u32, u32)>,
    start: u64,
    end: u64,
}

/// A self-describing block: writer, sequence number, block, filler, CRC32 of the rest.
fn encode(writer: u32, seq: u32, block: u64) -> Vec<u8> {
    let mut buf = vec![0u8; BS];
    buf[0..4].copy_from_slice(&writer.to_le_bytes());
    buf[4..8].copy_from_slice(&seq.to_le_bytes());
    buf[8..16].copy_from_slice(&block.to_le_bytes());
    let mut rng = Rng(u64::from(writer) << 40 ^ u64::from(seq) << 8 ^ block | 1);
    for chunk in buf[16..BS - 4].chunks_mut(8) {
        let x = rng.next_u64().to_le_bytes();
        chunk.copy_from_slice(&x[..chunk.len()]);
    }
    let crc = crc32fast::hash(&buf[..BS - 4]);
    buf[BS - 4..].copy_from_slice(&crc.to_le_bytes());
    buf
}

/// The write a block shows (`None`: the initial zeros), or why it is not one write.
fn decode(buf: &[u8], block: u64) -> Result<Option<(u32, u32)>, String> {
    if buf.iter().all(|b| *b == 0) {
        return Ok(None);
    }
    let crc = u32::from_le_bytes(buf[BS - 4..].try_into().unwrap());
    if crc32fast::hash(&buf[..BS - 4]) != crc {
        return Err(format!("block {block} is torn (checksum mismatch)"));
    }
    let word = |r: std::ops::Range<usize>| buf[r].to_vec();
    let at = u64::from_le_bytes(word(8..16).try_into().unwrap());
    if at != block {
        return Err(format!("block {block} holds the data of block {at}"));
    }
    let writer = u32::from_le_bytes(word(0..4).try_into().unwrap());
    let seq = u32::from_le_bytes(word(4..8).try_into().unwrap());
    Ok(Some((writer, seq)))
}

struct Shared<'a, S: BlockStore> {
    d: &'a Device<S>,
    clock: &'a AtomicU64,
    stop: &'a AtomicBool,
    /// Old writers that have done their pre-split share of writes and wait for the split.
    before_split: &'a AtomicU32,
    split_done: &'a AtomicBool,
}

/// Operations each old writer does on the single volume before the split.
const OPS_BEFORE_SPLIT: u32 = 300;

/// One writer thread: writes (70%) and reads (30%) through its VLUN on its block range.
fn worker<S: BlockStore>(
    s: &Shared<'_, S>,
    writer: u32,
    blocks: std::ops::Range<u64>,
) -> (Vec<WriteRec>, Vec<ReadRec>) {
    let vlun = if is_old(writer) { Vlun::A } else { Vlun::B };
    let ops = if is_old(writer) { OLD_OPS } else { NEW_OPS_MAX };
    let mut rng = Rng(0x9e37_79b9 ^ u64::from(writer + 1) << 20);
    let (mut writes, mut reads) = (Vec::new(), Vec::new());
    let mut buf = vec![0u8; BS];
    for seq in 1..=ops {
        if !is_old(writer) && seq > 500 && s.stop.load(Ordering::SeqCst) {
            break;
        }
        if is_old(writer) && seq == OPS_BEFORE_SPLIT {
            // The backup request comes while this transaction is running. Writer 0
            // waits for it, so some A writes surely follow the split; the others run
            // on, so the split races with A writes in flight.
            s.before_split.fetch_add(1, Ordering::SeqCst);
            while writer == 0 && !s.split_done.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
        }
        let block = blocks.start + rng.below(blocks.end - blocks.start);
        if rng.below(10) < 7 {
            let data = encode(writer, seq, block);
            let start = s.clock.fetch_add(1, Ordering::SeqCst);
            s.d.write(vlun, block, &data)
                .unwrap_or_else(|e| panic!("writer {writer}: {e}"));
            let end = s.clock.fetch_add(1, Ordering::SeqCst);
            writes.push(WriteRec {
                block,
                id: (writer, seq),
                start,
                end,
            });
        } else {
            let start = s.clock.fetch_add(1, Ordering::SeqCst);
            s.d.read(vlun, block, &mut buf)
                .unwrap_or_else(|e| panic!("writer {writer}: {e}"));
            let end = s.clock.fetch_add(1, Ordering::SeqCst);
            let shown = decode(&buf, block).unwrap_or_else(|e| panic!("{vlun}: {e}"));
            reads.push(ReadRec {
                vlun,
                block,
                shown,
                start,
                end,
            });
        }
    }
    (writes, reads)
}

/// Every write, by id and by (VLUN that can see it, block).
struct History {
    by_id: HashMap<(u32, u32), WriteRec>,
    /// Index 0: writes visible through A (old writers'), 1: through B (all).
    by_block: [HashMap<u64, Vec<WriteRec>>; 2],
}

impl History {
    fn new(writes: &[WriteRec]) -> Self {
        let mut h = History {
            by_id: HashMap::new(),
            by_block: [HashMap::new(), HashMap::new()],
        };
        for w in writes {
            h.by_id.insert(w.id, *w);
            if is_old(w.id.0) {
                h.by_block[0].entry(w.block).or_default().push(*w);
            }
            h.by_block[1].entry(w.block).or_default().push(*w);
        }
        h
    }

    fn visible(&self, vlun: Vlun, block: u64) -> &[WriteRec] {
        self.by_block[vlun as usize]
            .get(&block)
            .map_or(&[], |v| v.as_slice())
    }

    /// Checks that `shown`, read through `vlun` between `start` and `end`, is a legal
    /// result: a write visible through `vlun` that had begun by `end`, not superseded
    /// by a write that ran wholly between it and `start`.
    fn check(&self, vlun: Vlun, block: u64, shown: Option<(u32, u32)>, start: u64, end: u64) {
        let after = match shown {
            None => 0,
            Some(id) => {
                let w = self
                    .by_id
                    .get(&id)
                    .unwrap_or_else(|| panic!("{vlun} block {block}: {id:?} was never written"));
                assert_eq!(w.block, block);
                assert!(
                    vlun == Vlun::B || is_old(id.0),
                    "A-isolated: VLUN A block {block} shows new writer {}",
                    id.0
                );
                assert!(
                    w.start < end,
                    "{vlun} block {block}: read the future {id:?}"
                );
                w.end
            }
        };
        for w2 in self.visible(vlun, block) {
            let superseded = w2.end < start && (shown.is_none() || w2.start > after);
            assert!(
                !superseded,
                "{vlun} block {block}: shows {shown:?}, but {:?} overwrote it before the read",
                w2.id
            );
        }
    }
}

fn stress<S: BlockStore>(d: &Device<S>) {
    let variant = d.variant();
    let clock = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let before_split = AtomicU32::new(0);
    let split_done = AtomicBool::new(false);
    let shared = Shared {
        d,
        clock: &clock,
        stop: &stop,
        before_split: &before_split,
        split_done: &split_done,
    };
    let (archive, a_after, logs) = std::thread::scope(|scope| {
        let spawn = |writer: u32, blocks: std::ops::Range<u64>| {
            let shared = &shared;
            scope.spawn(move || worker(shared, writer, blocks))
        };
        // Old writers share blocks 0..24, new ones 8..32: overlap with each other and
        // across the VLUNs. The old writers start on the single volume; the backup
        // request (split) comes while they are running, as at time 350 of Fig 3C.
        let old: Vec<_> = (0..OLD_WRITERS).map(|w| spawn(w, 0..24)).collect();
        while before_split.load(Ordering::SeqCst) < OLD_WRITERS {
            std::thread::yield_now();
        }
        d.split().unwrap();
        split_done.store(true, Ordering::SeqCst);
        let new: Vec<_> = (0..NEW_WRITERS)
            .map(|w| spawn(OLD_WRITERS + w, 8..N))
            .collect();
        let mut logs: Vec<_> = old.into_iter().map(|h| h.join().unwrap()).collect();
        // The old transactions have ended: A is consistent. Archive and retire it
        // while the new writers go on.
        let mut archive = Vec::new();
        d.backup_a(&mut archive).unwrap();
        let a_after: Vec<u8> = (0..N)
            .flat_map(|b| {
                let mut buf = vec![0u8; BS];
                d.read(Vlun::A, b, &mut buf).unwrap();
                buf
            })
            .collect();
        d.retire_a().unwrap();
        stop.store(true, Ordering::SeqCst);
        logs.extend(new.into_iter().map(|h| h.join().unwrap()));
        (archive, a_after, logs)
    });
    let now = clock.load(Ordering::SeqCst);
    let writes: Vec<WriteRec> = logs.iter().flat_map(|(w, _)| w.iter().copied()).collect();
    let h = History::new(&writes);
    for (_, reads) in &logs {
        for r in reads {
            h.check(r.vlun, r.block, r.shown, r.start, r.end);
        }
    }
    assert!(archive == a_after, "{variant}: archive differs from VLUN A");
    for (b, block) in archive.chunks(BS).enumerate() {
        let shown = decode(block, b as u64).unwrap_or_else(|e| panic!("archive: {e}"));
        h.check(Vlun::A, b as u64, shown, now, now);
    }
    for b in 0..N {
        let mut buf = vec![0u8; BS];
        d.read(Vlun::B, b, &mut buf).unwrap();
        let shown = decode(&buf, b).unwrap_or_else(|e| panic!("final B: {e}"));
        h.check(Vlun::B, b, shown, now, now);
    }
    let c = d.counters();
    let old_writes = writes.iter().filter(|w| is_old(w.id.0)).count() as u64;
    assert_eq!(c.vlun_a_writes, old_writes, "{variant}");
    assert_eq!(
        c.vlun_b_writes,
        writes.len() as u64 - old_writes,
        "{variant}"
    );
    assert_eq!(c.extra_space_blocks, 0, "{variant}: space not reclaimed");
    assert!(
        old_writes > 1000 && writes.len() as u64 > old_writes + 500,
        "{variant}: too little work"
    );
}

fn config(variant: Variant, group1_locks: usize, group2: Option<StripeLocks>) -> DeviceConfig {
    DeviceConfig {
        group1_locks,
        group2,
        ..DeviceConfig::new(variant)
    }
}

#[test]
fn concurrent_front_in_memory_tears_loses_and_misroutes_nothing() {
    let stripes = Some(StripeLocks {
        stripe_blocks: 4,
        locks: 3,
    });
    for variant in Variant::ALL {
        // Few group-1 locks with stripe locks; then the patent's literal single lock.
        for (group1, group2) in [(4, stripes), (1, None)] {
            let d = Device::in_memory_with(config(variant, group1, group2), BS, N, N).unwrap();
            stress(&d);
        }
    }
}

#[test]
fn concurrent_front_on_files_tears_loses_and_misroutes_nothing() {
    let stripes = Some(StripeLocks {
        stripe_blocks: 8,
        locks: 2,
    });
    for variant in Variant::ALL {
        let dir = tempfile::tempdir().unwrap();
        let g = Geometry {
            block_size: BS,
            volume_blocks: N,
            area_slots: N,
        };
        let d = file::create(
            &DevicePaths::in_dir(dir.path()),
            config(variant, 2, stripes),
            g,
        )
        .unwrap();
        stress(&d);
    }
}
